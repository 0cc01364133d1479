variable "buckets" {
  type        = map(string)
  description = "Buckets to create, key => name; each gets a replica named <name>-dr in the DR region."
}

variable "region" {
  type        = string
  description = "Region of the buckets."
}

variable "dr_region" {
  type        = string
  description = "Region of the replicas; must differ from region."
}

variable "kms_key" {
  type        = string
  description = "Cloud KMS key (in region) encrypting the buckets by default."
}

variable "kms_dr_key" {
  type        = string
  description = "Cloud KMS key (in dr_region) encrypting the replicas by default."
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days a replaced object version is kept before it is deleted."
  default     = 90
}

variable "soft_delete_days" {
  type        = number
  description = "Days a deleted object stays restorable (Cloud Storage soft delete; 7 to 90, or 0 for none)."
  default     = 7
}

variable "replication_interval_hours" {
  type        = number
  description = "Hours between two copies of each bucket to its replica."
  default     = 1
}
