"""The model stager: copies the newest weights-only export from the checkpoint location to a local folder.

It runs as the init container of serving pods whose server reads only local files (vLLM, a custom server
asking for it): vLLM does not read ``s3://``, ``az://`` or ``oss://``. The layout it follows is the contract's
(``lepton_infra.contract``: ``export/latest`` names ``export/step-N/``); it signs its requests with the pod's
workload identity exactly as the trainer and our server do (``workloads.checkpoint.credentials``).
"""
