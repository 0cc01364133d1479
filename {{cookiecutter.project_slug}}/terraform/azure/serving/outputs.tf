output "app_url" {
  description = "URL of this environment's model app (null until a model is promoted); internal to the environment unless allowed_ip_ranges is set."
  value       = local.serve ? "https://${azurerm_container_app.model[0].ingress[0].fqdn}" : null
}

output "url" {
  description = "URL of the app (the traffic split); internal to the environment unless allowed_ip_ranges is set."
  value       = local.serve ? "https://${azurerm_container_app.model[0].ingress[0].fqdn}" : null
}

output "version_url" {
  description = "URL of the version under deployment's own revision (its label), whatever its share: the canary's smoke test target."
  value       = local.serve ? "https://${replace(azurerm_container_app.model[0].ingress[0].fqdn, "/^([^.]+)[.]/", "$${1}---${local.targets[0].label}.")}" : null
}
