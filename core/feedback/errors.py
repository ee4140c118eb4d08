"""Domain errors of feedback: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class NotReviewable(DomainError):
    """Only goods received (delivered parcel, verified voucher) can be reviewed."""

    reason_code = "not_reviewable"

    def __init__(self, no: str, status: str) -> None:
        super().__init__(f"order {no} is {status}: nothing to review yet")
        self.no = no
        self.status = status


class AlreadyReviewed(DomainError):
    reason_code = "already_reviewed"

    def __init__(self, no: str) -> None:
        super().__init__(f"order {no} was reviewed already")
        self.no = no


class BadScore(DomainError):
    reason_code = "bad_score"

    def __init__(self, score: int) -> None:
        super().__init__(f"a score is 1 to 5, not {score}")
        self.score = score


class UnknownMessage(DomainError):
    reason_code = "unknown_message"

    def __init__(self, message_id: int) -> None:
        super().__init__(f"no message {message_id}")
        self.message_id = message_id


class BadMessage(DomainError):
    """A message that is empty or too long."""

    reason_code = "bad_message"

    def __init__(self, length: int, most: int) -> None:
        super().__init__(f"a message is 1 to {most} characters, not {length}")
        self.length = length
        self.most = most


class QuestionError(DomainError):
    """A question or an answer that cannot be taken."""

    reason_code = "question_error"


class BadQuestion(QuestionError):
    reason_code = "bad_question"

    def __init__(self, length: int, least: int, most: int) -> None:
        super().__init__(f"a question has {least}-{most} characters, not {length}")
        self.length = length
        self.least = least
        self.most = most


class UnknownQuestion(QuestionError):
    reason_code = "unknown_question"

    def __init__(self, question_id: int) -> None:
        super().__init__(f"no question {question_id}")
        self.question_id = question_id
