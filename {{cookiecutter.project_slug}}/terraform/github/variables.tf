variable "required_status_checks" {
  type        = list(string)
  description = "Status checks (workflow job names) that must pass before merging into main."
  default     = ["checks", "pipeline", "terraform"]
}

variable "required_approvals" {
  type        = number
  description = "Approving reviews needed on a pull request into main."
  default     = 1
}
