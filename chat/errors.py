"""Every error a member or client can be shown, with its code and plain-language text.

One Enum shared by the websocket protocol, the forms, the UI and the tests. The codes are part
of the public protocol (docs/protocol.md lists each one; a test keeps the two in step).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # Frames that cannot be understood.
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    BINARY_NOT_SUPPORTED = "binary_not_supported"
    FRAME_TOO_LARGE = "frame_too_large"
    INVALID_TEXT = "invalid_text"
    # Message bodies.
    EMPTY_BODY = "empty_body"
    BODY_TOO_LONG = "body_too_long"
    CONTROL_CHARACTERS = "control_characters"
    # Limits.
    RATE_LIMITED = "rate_limited"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    TOO_MANY_NEW_SESSIONS = "too_many_new_sessions"
    TOO_MANY_SOCKET_OPENS = "too_many_socket_opens"
    ROOM_FULL = "room_full"
    # Access.
    UNAUTHENTICATED = "unauthenticated"
    ROOM_NOT_FOUND = "room_not_found"
    MEMBER_ERASED = "member_erased"
    FORBIDDEN = "forbidden"
    INTERNAL_ERROR = "internal_error"
    # Ground rules, screening and sanctions.
    RULES_NOT_ACCEPTED = "rules_not_accepted"
    RULES_OUTDATED = "rules_outdated"
    MESSAGE_BLOCKED = "message_blocked"
    TIMED_OUT = "timed_out"
    BANNED = "banned"
    # Reports, mutes and moderator actions.
    MESSAGE_NOT_FOUND = "message_not_found"
    ALREADY_REPORTED = "already_reported"
    CANNOT_REPORT_SELF = "cannot_report_self"
    NOTE_TOO_LONG = "note_too_long"
    MEMBER_NOT_FOUND = "member_not_found"
    ALREADY_RESOLVED = "already_resolved"
    APPEAL_PENDING = "appeal_pending"
    MEMBER_IN_DISTRESS = "member_in_distress"
    # Crisis support, staffing and take-aside conversations.
    ROOM_UNSTAFFED = "room_unstaffed"
    ESCALATION_NOT_FOUND = "escalation_not_found"
    ASIDE_NOT_FOUND = "aside_not_found"
    ASIDE_CLOSED = "aside_closed"
    # Hosted sessions.
    INVALID_PHASE = "invalid_phase"
    HAND_ALREADY_RAISED = "hand_already_raised"
    HAND_NOT_RAISED = "hand_not_raised"
    NOT_YOUR_TURN = "not_your_turn"
    SESSION_PAUSED = "session_paused"
    SLOW_MODE = "slow_mode"
    SESSION_LOCKED = "session_locked"
    NOT_A_HOST = "not_a_host"
    FEEDBACK_ALREADY_GIVEN = "feedback_already_given"
    # Handle changes (the "You" page).
    HANDLE_TOO_SHORT = "handle_too_short"
    HANDLE_TOO_LONG = "handle_too_long"
    HANDLE_INVALID_CHARACTERS = "handle_invalid_characters"
    HANDLE_CONTACT_DETAILS = "handle_contact_details"
    HANDLE_RESERVED = "handle_reserved"
    HANDLE_TAKEN = "handle_taken"

    @property
    def message(self) -> str:
        return ERROR_MESSAGES[self]


ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.MALFORMED_JSON: "That message could not be read. Please try again.",
    ErrorCode.NOT_AN_OBJECT: "That message could not be read. Please try again.",
    ErrorCode.UNKNOWN_TYPE: "The app sent a request this server does not know.",
    ErrorCode.MISSING_FIELD: "A required part of the request was missing.",
    ErrorCode.INVALID_FIELD: "Part of the request had the wrong form.",
    ErrorCode.BINARY_NOT_SUPPORTED: "Only text messages can be sent here.",
    ErrorCode.FRAME_TOO_LARGE: "That was too large to send.",
    ErrorCode.INVALID_TEXT: "Part of your message has characters that could not be read. "
                            "Please remove them and try again.",
    ErrorCode.EMPTY_BODY: "Your message is empty.",
    ErrorCode.BODY_TOO_LONG: "Your message is too long. Could you split it into parts?",
    ErrorCode.CONTROL_CHARACTERS: "Your message has invisible control characters. "
                                  "Please remove them and try again.",
    ErrorCode.RATE_LIMITED: "You're sending messages quickly. Take a breath; "
                            "you can send again in a moment.",
    ErrorCode.TOO_MANY_CONNECTIONS: "You have this chat open in too many tabs. "
                                    "Close one and try again.",
    ErrorCode.TOO_MANY_NEW_SESSIONS: "A lot of new visits have come from your connection "
                                     "just now. Please wait a few minutes and try again.",
    ErrorCode.TOO_MANY_SOCKET_OPENS: "Your connection is reconnecting very often. "
                                     "Please wait a minute and try again.",
    ErrorCode.ROOM_FULL: "This room is full right now, so the group can stay small. "
                         "Please try another room or come back soon.",
    ErrorCode.UNAUTHENTICATED: "Your visit has expired. Reload the page to continue.",
    ErrorCode.ROOM_NOT_FOUND: "This room doesn't exist or is closed.",
    ErrorCode.MEMBER_ERASED: "Your handle and messages have been erased.",
    ErrorCode.FORBIDDEN: "That needs a staff role you don't have.",
    ErrorCode.RULES_NOT_ACCEPTED: "Please read and accept this room's ground rules before "
                                  "your first message.",
    ErrorCode.RULES_OUTDATED: "The ground rules have just changed. Please read them again.",
    ErrorCode.MESSAGE_BLOCKED: "This message wasn't posted because it goes against a ground "
                               "rule.",
    ErrorCode.TIMED_OUT: "You're taking a short break from posting. You can still read, and "
                         "you'll be able to post again soon.",
    ErrorCode.BANNED: "You can't post here any more. If you think this is a mistake, you can "
                      "ask for a review.",
    ErrorCode.MESSAGE_NOT_FOUND: "That message isn't available.",
    ErrorCode.ALREADY_REPORTED: "You've already reported this message. Thank you; a moderator "
                                "will look at it.",
    ErrorCode.CANNOT_REPORT_SELF: "You can't report your own message. You can delete your "
                                  "messages with Forget me.",
    ErrorCode.NOTE_TOO_LONG: "That note is too long (at most 500 characters).",
    ErrorCode.MEMBER_NOT_FOUND: "That member isn't here any more.",
    ErrorCode.ALREADY_RESOLVED: "Someone has already dealt with this.",
    ErrorCode.MEMBER_IN_DISTRESS: "This member has shown signs of distress. A timeout or ban "
                                  "needs a reason and your confirmation.",
    ErrorCode.APPEAL_PENDING: "You've already asked for this to be looked at again. A "
                              "moderator will get back to you.",
    ErrorCode.ROOM_UNSTAFFED: "This room is open when someone from our team is on duty, and "
                              "nobody is right now. You can still read along.",
    ErrorCode.ESCALATION_NOT_FOUND: "That alert isn't available.",
    ErrorCode.ASIDE_NOT_FOUND: "That private conversation isn't available.",
    ErrorCode.ASIDE_CLOSED: "That private conversation has ended.",
    ErrorCode.INVALID_PHASE: "That isn't possible at this point in the session.",
    ErrorCode.HAND_ALREADY_RAISED: "Your hand is already up. The host will call you.",
    ErrorCode.HAND_NOT_RAISED: "Your hand isn't up.",
    ErrorCode.NOT_YOUR_TURN: "Someone is sharing right now. You can send a reaction, and "
                             "raise your hand for a turn.",
    ErrorCode.SESSION_PAUSED: "The host has paused the session for a moment.",
    ErrorCode.SLOW_MODE: "Slow mode is on, so everyone gets space. You can send again in a "
                         "moment.",
    ErrorCode.SESSION_LOCKED: "This session has started and is closed to newcomers. Please "
                              "try another room, or join the next session.",
    ErrorCode.NOT_A_HOST: "Only the session's hosts can do that.",
    ErrorCode.FEEDBACK_ALREADY_GIVEN: "You've already shared feedback for this session. "
                                      "Thank you.",
    ErrorCode.INTERNAL_ERROR: "Something went wrong on our side. Your message was not lost; "
                              "please try again.",
    ErrorCode.HANDLE_TOO_SHORT: "A handle needs at least 3 characters.",
    ErrorCode.HANDLE_TOO_LONG: "A handle can have at most 24 characters.",
    ErrorCode.HANDLE_INVALID_CHARACTERS: "A handle starts with a letter and uses only letters, "
                                         "digits, - and _.",
    ErrorCode.HANDLE_CONTACT_DETAILS: "Handles can't carry contact details such as phone "
                                      "numbers, emails or links. This keeps everyone safe.",
    ErrorCode.HANDLE_RESERVED: "That handle is reserved. Please choose another.",
    ErrorCode.HANDLE_TAKEN: "Someone already uses that handle. Please choose another.",
}


class HearthError(Exception):
    """A refusal with a code from ErrorCode; callers turn it into an error frame or form error."""

    # Set when a message refused for an ordinary reason (not your turn, slow mode, a
    # staffed-only room) carried words of distress: the writer still gets the support card.
    support_tier: str | None = None

    def __init__(self, code: ErrorCode, detail: str | None = None) -> None:
        super().__init__(code.value)
        self.code = code
        self.detail = detail or code.message
