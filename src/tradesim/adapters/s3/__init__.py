"""Object storage on S3 (or any S3-compatible endpoint): boto3 writes, pyarrow's S3 filesystem reads."""
