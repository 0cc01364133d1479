output "service_uri" {
  description = "URL of this environment's model service (null until a model is promoted)."
  value       = local.serve ? google_cloud_run_v2_service.model[0].uri : null
}

output "url" {
  description = "URL of the service (the traffic split); callers send a Google ID token for audience id_token_audience."
  value       = local.serve ? google_cloud_run_v2_service.model[0].uri : null
}

output "version_url" {
  description = "URL of the version under deployment's own revision (its tag), whatever its share: the canary's smoke test target."
  value = local.serve ? one([
    for status in google_cloud_run_v2_service.model[0].traffic_statuses : status.uri if status.tag == local.targets[0].tag
  ]) : null
}

output "id_token_audience" {
  description = "The audience of the ID token every URL of the service accepts (custom_audiences)."
  value       = local.serve ? local.project.serving_audience : null
}
