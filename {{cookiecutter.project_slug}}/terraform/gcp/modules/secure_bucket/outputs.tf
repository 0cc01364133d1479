output "names" {
  description = "Primary bucket names, by key of var.buckets."
  value       = { for key, bucket in google_storage_bucket.primary : key => bucket.name }
}

output "replica_names" {
  description = "DR-region replica bucket names, by key of var.buckets."
  value       = { for key, bucket in google_storage_bucket.replica : key => bucket.name }
}
