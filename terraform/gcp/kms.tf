# Key ring "platform" in region and in dr_region, holding:
#   data:     project data, artifacts and serving images, in both regions (output kms_key, a
#             cookiecutter answer). Projects find the DR key by swapping the region in its name,
#             so the names match. Projects cannot grant on these keys: the service agents that
#             use them are granted here.
#   platform: this stack's own data (state, MLflow artifacts, database, secret, image cache).
# Destroying a key destroys its versions, and with them every object encrypted with it:
# prevent_destroy. (Key rings cannot be deleted at all; their names stay taken.)
locals {
  key_rotation = "7776000s" # 90 days; old versions stay to decrypt older data
}

resource "google_kms_key_ring" "platform" {
  for_each = local.regions

  name     = "platform"
  location = each.value

  depends_on = [google_project_service.main]
}

resource "google_kms_crypto_key" "data" {
  for_each = local.regions

  name            = "data"
  key_ring        = google_kms_key_ring.platform[each.key].id
  rotation_period = local.key_rotation

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key" "platform" {
  name            = "platform"
  key_ring        = google_kms_key_ring.platform["main"].id
  rotation_period = local.key_rotation

  lifecycle {
    prevent_destroy = true
  }
}

# Service agents that encrypt with the keys on the services' behalf. Google creates them on
# first use, which is too late for CMEK: create them now.
resource "google_project_service_identity" "cmek" {
  provider = google-beta
  for_each = toset(["artifactregistry.googleapis.com", "secretmanager.googleapis.com", "sqladmin.googleapis.com"])

  service = each.key

  depends_on = [google_project_service.main]
}

locals {
  kms_grants = merge(
    # Cloud Storage: projects' buckets in both regions, and this stack's buckets.
    { for k, key in google_kms_crypto_key.data : "data-${k}-storage" => { key = key.id, member = local.gcs_agent } },
    { "platform-storage" = { key = google_kms_crypto_key.platform.id, member = local.gcs_agent } },
    { for s, agent in google_project_service_identity.cmek : "platform-${split(".", s)[0]}" => {
      key    = google_kms_crypto_key.platform.id
      member = "serviceAccount:${agent.email}"
    } },
    # Artifact Registry: the projects' serving image repositories.
    { "data-main-artifactregistry" = {
      key    = google_kms_crypto_key.data["main"].id
      member = "serviceAccount:${google_project_service_identity.cmek["artifactregistry.googleapis.com"].email}"
    } },
  )
}

resource "google_kms_crypto_key_iam_member" "agents" {
  for_each = local.kms_grants

  crypto_key_id = each.value.key
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value.member
}
