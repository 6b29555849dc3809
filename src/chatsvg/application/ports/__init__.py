"""The ports: what the use cases need from the outside world, as Protocols adapters satisfy
structurally. One module per feature; this package re-exports them all, so a use case imports
`from chatsvg.application.ports import X` whatever feature X belongs to."""

from chatsvg.application.ports.accounts import (
    AccessClaims,
    AccessTokens,
    PasswordHasher,
    ResetTokenRepository,
    SessionRepository,
    UserRepository,
)
from chatsvg.application.ports.authorization import GrantRepository, OAuthClientRepository
from chatsvg.application.ports.billing import (
    BillingEventRepository,
    BillingProvider,
    BillingProviderError,
    CreatedSubscription,
    SubscriptionRepository,
)
from chatsvg.application.ports.common import (
    Clock,
    DuplicateIdempotencyKey,
    Position,
    RateDecision,
    RateLimiter,
    TaskPayload,
    TaskQueue,
)
from chatsvg.application.ports.credits import (
    CreditLedger,
)
from chatsvg.application.ports.gallery import (
    GalleryCache,
)
from chatsvg.application.ports.generation import (
    GenerationFault,
    GenerationRepository,
    GenerationRequest,
    JobRepository,
    ModelAnswer,
    ObjectStorage,
    RealtimePublisher,
    Repair,
    SvgGenerator,
    SvgInspector,
    SvgRejected,
    SvgSanitizer,
)
from chatsvg.application.ports.keys import ApiKeyRepository, KeyUsageRepository, WindowLimiter
from chatsvg.application.ports.mail import (
    Mailer,
    MailMessage,
)
from chatsvg.application.ports.notifications import (
    NotificationRepository,
)
from chatsvg.application.ports.plans import PlanUsage
from chatsvg.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "AccessClaims",
    "AccessTokens",
    "ApiKeyRepository",
    "BillingEventRepository",
    "BillingProvider",
    "BillingProviderError",
    "Clock",
    "CreatedSubscription",
    "CreditLedger",
    "DuplicateIdempotencyKey",
    "GalleryCache",
    "GenerationFault",
    "GenerationRepository",
    "GenerationRequest",
    "GrantRepository",
    "JobRepository",
    "KeyUsageRepository",
    "MailMessage",
    "Mailer",
    "ModelAnswer",
    "NotificationRepository",
    "OAuthClientRepository",
    "ObjectStorage",
    "PasswordHasher",
    "PlanUsage",
    "Position",
    "RateDecision",
    "RateLimiter",
    "RealtimePublisher",
    "Repair",
    "ResetTokenRepository",
    "SessionRepository",
    "SubscriptionRepository",
    "SvgGenerator",
    "SvgInspector",
    "SvgRejected",
    "SvgSanitizer",
    "TaskPayload",
    "TaskQueue",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
    "WindowLimiter",
]
