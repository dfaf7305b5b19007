"""Local services the platform starts itself: embedded PostgreSQL, the S3 server, Airflow and Ray Serve."""
