variable "buckets" {
  type        = map(string)
  description = "Buckets to create, key => name; each gets a replica named <name>-dr in the DR region."
}

variable "kms_key_arn" {
  type        = string
  description = "Multi-region KMS key encrypting the buckets in the main region."
}

variable "kms_dr_key_arn" {
  type        = string
  description = "The DR-region replica of kms_key_arn, encrypting the replicas."
}

variable "account_id" {
  type        = string
  description = "AWS account of the buckets: only S3 acting for it may assume the replication role."
}

variable "name_prefix" {
  type        = string
  description = "Prefix of the replication role's name (<name_prefix>-s3-replication)."
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days a replaced object version is kept before it expires."
  default     = 90
}
