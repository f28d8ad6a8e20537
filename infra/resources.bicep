// What azd writes for CloudScale's manifest (identity, registry, Log Analytics, the Container Apps environment with the
// Aspire dashboard, Azure Files volumes for the Redis and Postgres containers), plus what the manifest cannot say:
// CloudScale's Dapr components with their metadata, secrets and scopes, and their resiliency, from infra/dapr.json
// (generated from components/). azd alone would turn every state component into state.redis on a dev-service Redis
// and lose the workflow store's actorStateStore.
@description('The location used for all deployed resources')
param location string = resourceGroup().location

@description('Id of the user or app to assign application roles')
param principalId string = ''

@description('Tags that will be applied to all resources')
param tags object = {}

@secure()
param cache_password string

@secure()
param postgres_password string

var resourceToken = uniqueString(resourceGroup().id)
var dapr = loadJsonContent('dapr.json')

// The values of the secrets the components reference (components/ reads them from the sidecar's environment). The
// Redis and Postgres containers are reached at their container app names inside the environment.
var componentSecrets = {
  'redis-host': 'cache:6379'
  'redis-password': cache_password
  'workflow-store-connection-string': 'Host=postgres;Port=5432;Username=postgres;Password=${postgres_password};Database=workflowdb'
}

var volumes = [
  { app: 'cache', volume: 'cache-data' }
  { app: 'postgres', volume: 'postgres-data' }
]

resource managedIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'mi-${resourceToken}'
  location: location
  tags: tags
}

resource containerRegistry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: replace('acr-${resourceToken}', '-', '')
  location: location
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: true
  }
  tags: tags
}

resource caeMiRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(containerRegistry.id, managedIdentity.id, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d'))
  scope: containerRegistry
  properties: {
    principalId: managedIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d')
  }
}

resource logAnalyticsWorkspace 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: 'law-${resourceToken}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
  }
  tags: tags
}

resource storageVolume 'Microsoft.Storage/storageAccounts@2022-05-01' = {
  name: 'vol${resourceToken}'
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    largeFileSharesState: 'Enabled'
  }
}

resource storageVolumeFileService 'Microsoft.Storage/storageAccounts/fileServices@2022-05-01' = {
  parent: storageVolume
  name: 'default'
}

resource fileShares 'Microsoft.Storage/storageAccounts/fileServices/shares@2022-05-01' = [for entry in volumes: {
  parent: storageVolumeFileService
  name: take('${entry.app}-${entry.volume}', 32)
  properties: {
    shareQuota: 1024
    enabledProtocols: 'SMB'
  }
}]

resource containerAppEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${resourceToken}'
  location: location
  properties: {
    workloadProfiles: [{
      workloadProfileType: 'Consumption'
      name: 'consumption'
    }]
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalyticsWorkspace.properties.customerId
        sharedKey: logAnalyticsWorkspace.listKeys().primarySharedKey
      }
    }
  }
  tags: tags

  resource aspireDashboard 'dotNetComponents' = {
    name: 'aspire-dashboard'
    properties: {
      componentType: 'AspireDashboard'
    }
  }
}

resource explicitContributorUserRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(containerAppEnvironment.id, principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c'))
  scope: containerAppEnvironment
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')
  }
}

resource volumeStores 'Microsoft.App/managedEnvironments/storages@2023-05-01' = [for (entry, index) in volumes: {
  parent: containerAppEnvironment
  name: take('${entry.app}-${entry.volume}', 32)
  properties: {
    azureFile: {
      shareName: fileShares[index].name
      accountName: storageVolume.name
      accountKey: storageVolume.listKeys().keys[0].value
      accessMode: 'ReadWrite'
    }
  }
}]

resource daprComponents 'Microsoft.App/managedEnvironments/daprComponents@2024-03-01' = [for component in dapr.components: {
  parent: containerAppEnvironment
  name: component.name
  properties: {
    componentType: component.componentType
    version: component.version
    metadata: component.metadata
    secrets: [for secret in component.secrets: {
      name: secret
      value: componentSecrets[secret]
    }]
    scopes: component.scopes
  }
}]

resource daprComponentResiliency 'Microsoft.App/managedEnvironments/daprComponents/resiliencyPolicies@2024-03-01' = [for (component, index) in dapr.components: if (component.resiliency != null) {
  parent: daprComponents[index]
  name: '${component.name}-resiliency'
  properties: component.resiliency
}]

output MANAGED_IDENTITY_CLIENT_ID string = managedIdentity.properties.clientId
output MANAGED_IDENTITY_NAME string = managedIdentity.name
output MANAGED_IDENTITY_PRINCIPAL_ID string = managedIdentity.properties.principalId
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = logAnalyticsWorkspace.name
output AZURE_LOG_ANALYTICS_WORKSPACE_ID string = logAnalyticsWorkspace.id
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = containerRegistry.properties.loginServer
output AZURE_CONTAINER_REGISTRY_MANAGED_IDENTITY_ID string = managedIdentity.id
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = containerAppEnvironment.name
output AZURE_CONTAINER_APPS_ENVIRONMENT_ID string = containerAppEnvironment.id
output AZURE_CONTAINER_APPS_ENVIRONMENT_DEFAULT_DOMAIN string = containerAppEnvironment.properties.defaultDomain
output SERVICE_CACHE_VOLUME_CACHE_DATA_NAME string = volumeStores[0].name
output SERVICE_POSTGRES_VOLUME_POSTGRES_DATA_NAME string = volumeStores[1].name
output AZURE_VOLUMES_STORAGE_ACCOUNT string = storageVolume.name
