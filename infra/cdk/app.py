"""Entry point for `cdk synth` / `cdk deploy` (see cdk.json) and for `python app.py` alone."""

from tradesim_infra.app import build_app

build_app().synth()
