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
                    case "state.postgresql":
                        var postgres = new PostgresStateStore(component);
                        states.Add((postgres, StateStores.KeyPrefixFor(component, options.AppId)));
                        await postgres.InitAsync(cancellationToken);
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
