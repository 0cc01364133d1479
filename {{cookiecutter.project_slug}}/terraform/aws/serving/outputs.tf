output "endpoint_name" {
  description = "SageMaker endpoint of this environment (null until a model is promoted)."
  value       = local.serve ? aws_sagemaker_endpoint.main[0].name : null
}
