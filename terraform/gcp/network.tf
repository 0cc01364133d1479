# Private network of the MLflow database: Cloud SQL gets a private IP only (private services
# access: a peered range in this VPC), and the MLflow Cloud Run service reaches it through
# Direct VPC egress into the subnet below. Nothing else runs in this VPC.

resource "google_compute_network" "mlflow" {
  name                    = "mlflow"
  auto_create_subnetworks = false

  depends_on = [google_project_service.main]
}

resource "google_compute_subnetwork" "mlflow" {
  name                     = "mlflow-run-egress"
  network                  = google_compute_network.mlflow.id
  region                   = var.region
  ip_cidr_range            = var.mlflow_subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Nothing in this VPC serves: every inbound connection is refused, and logged. (The implied
# rule denies too, but an explicit one is visible and logs.)
resource "google_compute_firewall" "deny_ingress" {
  name      = "mlflow-deny-all-ingress"
  network   = google_compute_network.mlflow.id
  direction = "INGRESS"
  priority  = 65534

  source_ranges = ["0.0.0.0/0"]
  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Google picks a free /20 for Cloud SQL (and any later managed service) in this VPC.
resource "google_compute_global_address" "private_services" {
  name          = "mlflow-private-services"
  network       = google_compute_network.mlflow.id
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.mlflow.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
  # Removing the peering fails while Cloud SQL still uses it; destroy leaves it to the network.
  deletion_policy = "ABANDON"
}
