"""The one error composing raises: this mail cannot be written, and why (never whom it is for)."""


class MailNotComposable(ValueError):
    """The mail lacks what its kind needs or holds a value no e-mail can carry.

    Retrying cannot help: the delivery fails for good and the message says what to fix. It
    names fields and reasons, never addresses or names, because it reaches logs.
    """
