"""The operator's back office in the browser (issue 16 §1): one module per family of pages
under ``/console/ops``, mounted by ``console.ops``."""
