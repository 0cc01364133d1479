output "endpoint_name" {
  description = "SageMaker endpoint of this environment (null until a model is promoted)."
  value       = local.serve ? aws_sagemaker_endpoint.main[0].name : null
}

output "url" {
  description = "The endpoint's invocation URL (SigV4-signed calls: sagemaker:InvokeEndpoint); the smoke test's target. SageMaker runs the canary inside one endpoint: no URL per version."
  value       = local.serve ? "https://runtime.sagemaker.${local.answers.region}.amazonaws.com/endpoints/${aws_sagemaker_endpoint.main[0].name}/invocations" : null
}

output "version_url" {
  description = "URL of the version under deployment alone: none on SageMaker (the canary shares the endpoint), so the endpoint's."
  value       = local.serve ? "https://runtime.sagemaker.${local.answers.region}.amazonaws.com/endpoints/${aws_sagemaker_endpoint.main[0].name}/invocations" : null
}
