output "ids" {
  description = "Primary bucket names, by key of var.buckets."
  value       = { for key, bucket in aws_s3_bucket.primary : key => bucket.id }
}

output "arns" {
  description = "Primary bucket ARNs, by key of var.buckets."
  value       = { for key, bucket in aws_s3_bucket.primary : key => bucket.arn }
}
