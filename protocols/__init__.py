"""Workflows built on echemml models (installed as ``echemml.protocols``):
active learning and constant-potential electrode runs. Filled by later work.
"""
