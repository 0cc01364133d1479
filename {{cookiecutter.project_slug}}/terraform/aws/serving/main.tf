# Per-environment serving: SageMaker model, endpoint config (data capture on provisioned
# endpoints), endpoint, autoscaling, and CloudWatch alarms to the project's SNS topic.
# The environment is the workspace (dev or prod); any other workspace fails the lookup.

data "terraform_remote_state" "project" {
  backend = "s3"
  config = {
    bucket = local.answers.tf_state_bucket
    key    = "${local.answers.project}/aws/project.tfstate"
    region = local.answers.region
  }
}

locals {
  environment = terraform.workspace
  env         = var.environments[local.environment]
  project     = data.terraform_remote_state.project.outputs
  name        = "${local.answers.project}-${local.environment}"
  serve       = var.model_data_url != ""

  tags = {
    project       = local.answers.project
    environment   = local.environment
    owner         = local.answers.owner
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }
}

resource "aws_sagemaker_model" "main" {
  count = local.serve ? 1 : 0

  name               = "${local.name}-${substr(sha1(var.model_data_url), 0, 8)}"
  execution_role_arn = local.project.serving_role_arn
  # No network from the container: the serving image must carry its dependencies
  # (mlflow sagemaker build-and-push-container bakes the model environment in).
  enable_network_isolation = true

  primary_container {
    image          = "${local.project.serving_repository_url}:${var.image_tag}"
    model_data_url = var.model_data_url
  }

  lifecycle {
    create_before_destroy = true # a new model version replaces the old without downtime
  }
}

resource "aws_sagemaker_endpoint_configuration" "main" {
  count = local.serve ? 1 : 0

  name_prefix = "${local.name}-"
  kms_key_arn = local.env.serverless ? null : local.project.kms_key_arn

  production_variants {
    variant_name           = "main"
    model_name             = aws_sagemaker_model.main[0].name
    instance_type          = local.env.serverless ? null : local.env.instance_type
    initial_instance_count = local.env.serverless ? null : local.env.min_instances

    dynamic "serverless_config" {
      for_each = local.env.serverless ? [1] : []
      content {
        memory_size_in_mb = local.env.memory_mb
        max_concurrency   = local.env.max_concurrency
      }
    }
  }

  # Captured requests/responses feed the drift monitoring job. SageMaker does not capture
  # on serverless endpoints, so dev has none.
  dynamic "data_capture_config" {
    for_each = local.env.serverless ? [] : [1]
    content {
      enable_capture              = true
      initial_sampling_percentage = local.env.capture_percent
      destination_s3_uri          = "s3://${local.project.artifact_bucket}/datacapture/${local.environment}"
      kms_key_id                  = local.project.kms_key_arn

      capture_options {
        capture_mode = "Input"
      }
      capture_options {
        capture_mode = "Output"
      }
      capture_content_type_header {
        csv_content_types  = ["text/csv"]
        json_content_types = ["application/json"]
      }
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_sagemaker_endpoint" "main" {
  count = local.serve ? 1 : 0

  name                 = local.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.main[0].name
}

# Autoscaling on invocations per instance (provisioned endpoints only; serverless scales itself).
resource "aws_appautoscaling_target" "endpoint" {
  count = local.serve && !local.env.serverless ? 1 : 0

  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.main[0].name}/variant/main"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = local.env.min_instances
  max_capacity       = local.env.max_instances
}

resource "aws_appautoscaling_policy" "endpoint" {
  count = local.serve && !local.env.serverless ? 1 : 0

  name               = "${local.name}-invocations"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.endpoint[0].service_namespace
  resource_id        = aws_appautoscaling_target.endpoint[0].resource_id
  scalable_dimension = aws_appautoscaling_target.endpoint[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 100 # invocations per instance per minute
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "errors_5xx" {
  count = local.serve ? 1 : 0

  alarm_name          = "${local.name}-5xx"
  alarm_description   = "Model endpoint ${local.name} returns server errors."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  dimensions          = { EndpointName = aws_sagemaker_endpoint.main[0].name, VariantName = "main" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = local.env.error_5xx_per_5m
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.project.alerts_topic_arn]
  ok_actions          = [local.project.alerts_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  count = local.serve ? 1 : 0

  alarm_name          = "${local.name}-latency-p95"
  alarm_description   = "Model endpoint ${local.name} p95 latency above ${local.env.latency_p95_ms} ms."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency" # microseconds
  dimensions          = { EndpointName = aws_sagemaker_endpoint.main[0].name, VariantName = "main" }
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 3
  threshold           = local.env.latency_p95_ms * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.project.alerts_topic_arn]
  ok_actions          = [local.project.alerts_topic_arn]
}
