"""Async client for the Pixlpark REST API.

    async with PixlparkClient(public_key, private_key) as client:
        order = await client.get_order("2336327")
        async for order in client.iter_orders(status="NotProcessed"):
            ...

This package imports nothing from the bot (`bot`, `handlers`, `storage`).
"""

from pixlpark.auth import password_hash
from pixlpark.client import DEFAULT_BASE_URL, PixlparkClient
from pixlpark.endpoints import ENDPOINTS, MAX_TAKE, Confidence, Endpoint
from pixlpark.errors import (
    ApiError,
    ApiNotActivated,
    AuthError,
    InvalidCredentials,
    NotFound,
    NotSupported,
    PixlparkError,
    RateLimited,
    ServiceUnavailable,
    StatusChangeFailed,
    UnexpectedResponse,
    classify_auth_failure,
)
from pixlpark.models import (
    Category,
    Comment,
    DeliveryAddress,
    Discount,
    Order,
    OrderDetail,
    OrderItem,
    Product,
    Shipping,
    ShippingMethod,
    StatusChangeResult,
    User,
    UserAdditionalInfo,
    parse_order,
)
from pixlpark.parsing import parse_datetime
from pixlpark.redact import install_log_redaction, redact_text
from pixlpark.retry import RetryPolicy
from pixlpark.statuses import (
    GROUP_LABELS,
    SETTABLE_STATUSES,
    STATUS_GROUPS,
    OrderStatus,
    group_label,
    payment_status_label,
    render_status_label,
    status_group,
    status_label,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "GROUP_LABELS",
    "MAX_TAKE",
    "SETTABLE_STATUSES",
    "STATUS_GROUPS",
    "ApiError",
    "ApiNotActivated",
    "AuthError",
    "Category",
    "Comment",
    "Confidence",
    "DeliveryAddress",
    "Discount",
    "Endpoint",
    "InvalidCredentials",
    "NotFound",
    "NotSupported",
    "Order",
    "OrderDetail",
    "OrderItem",
    "OrderStatus",
    "PixlparkClient",
    "PixlparkError",
    "Product",
    "RateLimited",
    "RetryPolicy",
    "ServiceUnavailable",
    "Shipping",
    "ShippingMethod",
    "StatusChangeFailed",
    "StatusChangeResult",
    "UnexpectedResponse",
    "User",
    "UserAdditionalInfo",
    "classify_auth_failure",
    "group_label",
    "install_log_redaction",
    "parse_datetime",
    "parse_order",
    "password_hash",
    "payment_status_label",
    "redact_text",
    "render_status_label",
    "status_group",
    "status_label",
]
