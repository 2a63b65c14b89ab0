"""The OpenAI completions wire format: requests (validated strictly) and responses.

Requests are strict: a number sent as a string, a bool sent as a number, NaN or Infinity are
refused rather than coerced, because a client sending them has a bug it should hear about.
Fields this server does not know are ignored (OpenAI clients send new fields before servers
learn them); OpenAI fields it knows but does not implement are accepted only at their neutral
value, so a client never silently gets something other than what it asked for.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# OpenAI's limit on stop sequences.
MAX_STOP_SEQUENCES = 4
# A seed plus the choice index must stay below 2**64, what torch.Generator accepts.
MAX_SEED = 2**63 - 1
MAX_N = 128


def _neutral(*allowed: object) -> AfterValidator:
    def check(value: object) -> object:
        if value not in allowed:
            neutral = json.dumps(allowed[0])
            raise ValueError(f"this server does not support it; send {neutral} or leave it out")
        return value

    return AfterValidator(check)


class StreamOptions(BaseModel):
    """``stream_options``: what a stream carries besides the text (OpenAI's fields; others are ignored)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    include_usage: bool = Field(
        False,
        description="Send one more event before [DONE]: empty choices and the usage of the whole request; "
        "every other event then carries usage: null.",
    )


class CompletionRequest(BaseModel):
    """``POST /v1/completions`` body."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore", frozen=True)

    model: str
    prompt: str | list[str]
    max_tokens: int = Field(16, ge=1, description="Upper bound; the server's --max-tokens-cap applies too.")
    temperature: float = Field(1.0, ge=0.0, le=2.0, description="0 means greedy decoding.")
    top_p: float = Field(1.0, ge=0.0, le=1.0)
    n: int = Field(1, ge=1, le=MAX_N)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=0, le=MAX_SEED)

    echo: Annotated[bool, _neutral(False)] = False
    logprobs: Annotated[int | None, _neutral(None)] = None
    best_of: Annotated[int | None, _neutral(None, 1)] = None
    suffix: Annotated[str | None, _neutral(None)] = None
    presence_penalty: Annotated[float, _neutral(0.0)] = 0.0
    frequency_penalty: Annotated[float, _neutral(0.0)] = 0.0
    logit_bias: Annotated[dict[str, float] | None, _neutral(None, {})] = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt_shape(cls, value: Any) -> Any:
        # The generic union error ("should be a valid string" twice) does not tell users what to send.
        prompts = [value] if isinstance(value, str) else value
        if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) and p for p in prompts):
            raise ValueError("prompt must be a non-empty string or a non-empty list of non-empty strings")
        return value

    @field_validator("stream_options")
    @classmethod
    def _only_when_streaming(cls, value: StreamOptions | None, info: ValidationInfo) -> StreamOptions | None:
        # OpenAI: "Only set this when you set stream: true" (and its API refuses it otherwise).
        if value is not None and info.data.get("stream") is not True:
            raise ValueError("only allowed when stream is true")
        return value

    @field_validator("stop")
    @classmethod
    def _stop_shape(cls, value: str | list[str] | None) -> str | list[str] | None:
        stops = [value] if isinstance(value, str) else value or []
        if len(stops) > MAX_STOP_SEQUENCES or not all(stops):
            raise ValueError(f"stop takes at most {MAX_STOP_SEQUENCES} non-empty strings")
        return value

    @property
    def prompts(self) -> list[str]:
        return [self.prompt] if isinstance(self.prompt, str) else self.prompt

    @property
    def include_usage(self) -> bool:
        """Whether a stream ends with a usage event (``stream_options.include_usage``)."""
        return self.stream_options is not None and self.stream_options.include_usage

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class CompletionChoice(BaseModel):
    text: str
    index: int
    logprobs: None = None
    finish_reason: Literal["stop", "length"] | None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Completion(BaseModel):
    """A whole response, or one server-sent event of a stream (``usage`` null, but in the last event of a
    stream that asked for it: then ``choices`` is empty)."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "lepton-infra"
    max_model_len: int


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail
