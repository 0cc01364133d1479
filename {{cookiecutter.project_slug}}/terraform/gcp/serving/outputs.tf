output "service_uri" {
  description = "URL of this environment's model service (null until a model is promoted)."
  value       = local.serve ? google_cloud_run_v2_service.model[0].uri : null
}
