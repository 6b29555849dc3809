"""Object storage: S3, local disk, signed URLs and download headers."""
