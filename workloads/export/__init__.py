"""The model handoff: a weights-only export of each checkpoint in Hugging Face's layout.

``<CHECKPOINT_DIR>/export/step-N/`` holds ``config.json`` (GPT-2's), ``model.safetensors`` and the
tokenizer files of the 256-byte vocabulary, and ``export/latest`` names the newest complete one (the layout
and its rules: ``lepton_infra.contract``). Any server loads it without our code: transformers'
``GPT2LMHeadModel``, vLLM, ours (``workloads.serve``), or the platform's stager copies it next to one.

One job per module: ``gpt2`` (our model as GPT-2, exactly: config and weight names), ``tokenizer`` (the
tokenizer files, written without the ``tokenizers`` package), ``files`` (an export's bytes, and back),
``folder`` (write one atomically, name it ``latest``, read it, prune).
"""
