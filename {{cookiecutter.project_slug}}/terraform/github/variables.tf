variable "required_status_checks" {
  type        = list(string)
  description = "Status checks that must pass before merging into main: the `name:` of the last job of each workflow, which reports on every pull request whatever it changes: checks (checks.yml), pipeline (pr-pipeline.yml), terraform (terraform.yml), promotion (promote.yml). docs/workflows.md, Required checks."
  default     = ["checks", "pipeline", "terraform", "promotion"]
}

variable "required_approvals" {
  type        = number
  description = "Approving reviews needed on a pull request into main."
  default     = 1
}
