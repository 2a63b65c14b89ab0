"""The site of ``cloud: existing``: a cluster built elsewhere, reached through a kubeconfig; no cloud SDK."""
