"""Scribe fine-tuning: synthetic transcript→note pairs, LoRA training, eval card, onnxruntime-genai export.

Run as `python -m finetune` (see finetune/__main__.py). Nothing under scribe/ imports this package.
"""
__all__ = ["base", "export", "build"]
