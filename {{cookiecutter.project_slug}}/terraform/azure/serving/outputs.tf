output "app_url" {
  description = "URL of this environment's model app (null until a model is promoted); internal to the environment unless allowed_ip_ranges is set."
  value       = local.serve ? "https://${azurerm_container_app.model[0].ingress[0].fqdn}" : null
}
