"""The Step Functions state machine that runs one scheduled batch pipeline and stops it at its deadline.

A SageMaker transform job has no run-time limit (CreateTransformJob takes no StoppingCondition) and
a pipeline execution has none either, so the run's hard stop is kept here, as the GCP workflow
keeps it for Vertex batch prediction:

    StartPipelineExecution -> wait ``poll_seconds`` -> DescribePipelineExecution
        Succeeded: the execution succeeds; Failed or Stopped: it fails;
        still running after ``max_runtime_seconds``: StopPipelineExecution (which stops the transform
        job), then it fails.

The deadline counts polls (``ceil(max_runtime_seconds / poll_seconds)``): the stop comes after at
least ``max_runtime_seconds`` and at most one poll (plus the API calls' latency) later. Amazon
States Language (JSONPath); the AWS SDK integrations are named ``arn:PARTITION:states:::aws-sdk:sagemaker:...``.
"""

from __future__ import annotations

import math
from typing import Any

POLL_SECONDS = 60
"""Seconds between two reads of the execution's status."""
START, DESCRIBE, STOP = "startPipelineExecution", "describePipelineExecution", "stopPipelineExecution"
MAX_RUNTIME_ERROR = "MaxRuntimeExceeded"
RUN_FAILED_ERROR = "BatchRunFailed"
_RETRY = [
    {
        "ErrorEquals": ["SageMaker.SageMakerException", "SageMaker.ThrottlingException", "States.Timeout"],
        "IntervalSeconds": 5,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
    }
]


def max_polls(max_runtime_seconds: int, poll_seconds: int = POLL_SECONDS) -> int:
    """How many polls make the deadline."""
    return math.ceil(max_runtime_seconds / poll_seconds)


def sagemaker_integration(partition: str, action: str) -> str:
    """The Step Functions AWS SDK integration calling SageMaker's ``action`` in ``partition``."""
    return f"arn:{partition}:states:::aws-sdk:sagemaker:{action}"


def supervisor_definition(
    pipeline_name: str, max_runtime_seconds: int, poll_seconds: int = POLL_SECONDS, *, partition: str
) -> dict[str, Any]:
    """The state machine (see the module docstring) for ``pipeline_name``, its integrations in ``partition``."""
    arn = "$.run.PipelineExecutionArn"
    return {
        "Comment": f"Runs the batch pipeline {pipeline_name}, stops it after {max_runtime_seconds} s",
        "StartAt": "Begin",
        # The machine itself ends a little after the deadline's stop, whatever happens to the polls.
        "TimeoutSeconds": max_runtime_seconds + 10 * poll_seconds,
        "States": {
            "Begin": {"Type": "Pass", "Result": {"count": 0}, "ResultPath": "$.polls", "Next": "StartRun"},
            "StartRun": {
                "Type": "Task",
                "Resource": sagemaker_integration(partition, START),
                "Parameters": {"PipelineName": pipeline_name, "ClientRequestToken.$": "States.UUID()"},
                "ResultSelector": {"PipelineExecutionArn.$": "$.PipelineExecutionArn"},
                "ResultPath": "$.run",
                "Retry": _RETRY,
                "Next": "Wait",
            },
            "Wait": {"Type": "Wait", "Seconds": poll_seconds, "Next": "Describe"},
            "Describe": {
                "Type": "Task",
                "Resource": sagemaker_integration(partition, DESCRIBE),
                "Parameters": {"PipelineExecutionArn.$": arn},
                "ResultSelector": {"status.$": "$.PipelineExecutionStatus"},
                "ResultPath": "$.state",
                "Retry": _RETRY,
                "Next": "Decide",
            },
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.state.status", "StringEquals": "Succeeded", "Next": "Done"},
                    {
                        "Or": [
                            {"Variable": "$.state.status", "StringEquals": "Failed"},
                            {"Variable": "$.state.status", "StringEquals": "Stopped"},
                        ],
                        "Next": "RunFailed",
                    },
                    {
                        "Variable": "$.polls.count",
                        "NumericGreaterThanEquals": max_polls(max_runtime_seconds, poll_seconds),
                        "Next": "Stop",
                    },
                ],
                "Default": "Count",
            },
            "Count": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.polls.count, 1)"},
                "ResultPath": "$.polls",
                "Next": "Wait",
            },
            "Stop": {
                "Type": "Task",
                "Resource": sagemaker_integration(partition, STOP),
                "Parameters": {"PipelineExecutionArn.$": arn, "ClientRequestToken.$": "States.UUID()"},
                "ResultPath": None,
                "Retry": _RETRY,
                "Next": "TimedOut",
            },
            "TimedOut": {
                "Type": "Fail",
                "Error": MAX_RUNTIME_ERROR,
                "Cause": f"the batch run passed max_runtime_seconds ({max_runtime_seconds} s) and was stopped",
            },
            "RunFailed": {"Type": "Fail", "Error": RUN_FAILED_ERROR, "Cause": "the batch pipeline run failed"},
            "Done": {"Type": "Succeed"},
        },
    }
