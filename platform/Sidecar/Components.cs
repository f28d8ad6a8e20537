using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.PubSub;
using CloudScale.Sidecar.State;

namespace CloudScale.Sidecar;

/// <summary>Creates and initialises the components the resources declare; a component that fails stops start-up.</summary>
internal static class Components
{
    public static async Task<(StateStores States, PubSubs PubSubs)> InitAsync(LoadedResources resources, SidecarOptions options, CancellationToken cancellationToken)
    {
        var states = new List<(IStateStore, string?)>();
        var pubsubs = new List<IPubSub>();
        foreach (var component in resources.Components)
        {
            try
            {
                switch (component.Type)
                {
                    case "state.postgresql" or "state.redis":
                        IStateStore store = component.Type == "state.redis" ? new RedisStateStore(component) : new PostgresStateStore(component);
                        states.Add((store, StateStores.KeyPrefixFor(component, options.AppId)));
                        await store.InitAsync(cancellationToken);
                        break;
                    case "pubsub.redis":
                        var pubsub = new RedisStreamsPubSub(component, options.AppId);
                        pubsubs.Add(pubsub);
                        await pubsub.InitAsync(cancellationToken);
                        break;
                }
            }
            catch (Exception exception) when (exception is not ConfigurationException and not OperationCanceledException)
            {
                throw new ConfigurationException($"{component.File}: component '{component.Name}' ({component.Type}) failed to initialise: {exception.Message}");
            }
        }

        return (new StateStores(states), new PubSubs(pubsubs));
    }
}
