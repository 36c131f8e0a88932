"""Facts the rules read, shared with the components that must refuse the same inputs.

A fact says what a resource's wire properties mean (the steps of a SageMaker pipeline definition,
the statements of an IAM document, the containers of a Kubernetes workload, the IAM actions AWS
cannot scope); a rule in ``mlops_infra.policy.rules`` decides what is wrong with them. Nothing here
imports a cloud package (``mlops_infra.aws|gcp|k8s`` or a Pulumi provider SDK): components import
the facts, never the other way round.
"""
