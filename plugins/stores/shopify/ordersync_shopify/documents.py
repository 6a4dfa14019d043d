"""Every GraphQL document the Shopify store sends, with its requested cost.

Page sizes are fixed in the documents, so each has one requested cost (Shopify's rules, see
``sandbox/cost.py``); the client takes that many points from its bucket before it sends. The
tests check each document against the official schema and each ``cost`` against the sandbox's
calculation, so a change to a document that makes it dearer fails until ``cost`` follows.
"""

from __future__ import annotations

from ordersync.http.graphql import Document

#: Custom attribute on each line item that names the channel line it came from.
LINE_ATTRIBUTE = "_ordersync_line"
#: Custom attribute of a linked line created without its variant (its stock must not move).
VARIANT_ATTRIBUTE = "_ordersync_variant"
#: Lines read per page of an order (more are read with ``ORDER_LINES``).
LINES_PAGE = 50

_LINE_FIELDS = """
fragment LineFields on LineItem {
  id
  title
  sku
  quantity
  currentQuantity
  unfulfilledQuantity
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  variant { id }
  customAttributes { key value }
}
"""

_ORDER_FIELDS = (
    """
fragment OrderFields on Order {
  id
  name
  sourceIdentifier
  tags
  cancelledAt
  cancelReason
  displayFinancialStatus
  updatedAt
  lineItems(first: 50) {
    nodes { ...LineFields }
    pageInfo { hasNextPage endCursor }
  }
  fulfillments(first: 5) {
    id
    status
    createdAt
    trackingInfo(first: 2) { number company }
    fulfillmentLineItems(first: 30) { nodes { quantity lineItem { id } } }
  }
  refunds {
    # (Five lines of each refund: reading an order must stay within a 600-point bucket.)
    id
    note
    createdAt
    totalRefundedSet { shopMoney { amount } }
    refundLineItems(first: 5) { nodes { quantity lineItem { id } } }
  }
}
"""
    + _LINE_FIELDS
)

GET_ORDER = Document(
    "GetOrder",
    """
query GetOrder($id: ID!) {
  order(id: $id) { ...OrderFields }
}
"""
    + _ORDER_FIELDS,
    cost=593,
)

ORDER_LINES = Document(
    "OrderLines",
    """
query OrderLines($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 50, after: $after) {
      nodes { ...LineFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + _LINE_FIELDS,
    cost=253,
)

FIND_ORDERS = Document(
    "FindOrders",
    """
query FindOrders($query: String!) {
  orders(first: 5, query: $query) {
    nodes { id sourceIdentifier }
  }
}
""",
    cost=7,
)

CHANGED_ORDERS = Document(
    "ChangedOrders",
    """
query ChangedOrders($query: String!, $after: String) {
  orders(first: 50, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { id updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    cost=52,
)

ORDER_CREATE = Document(
    "CreateOrder",
    """
mutation CreateOrder($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { ...OrderFields }
    userErrors { field message code }
  }
}
"""
    + _ORDER_FIELDS,
    cost=10,
    idempotent=False,
)

ORDER_MARK_AS_PAID = Document(
    "MarkOrderPaid",
    """
mutation MarkOrderPaid($id: ID!) {
  orderMarkAsPaid(input: {id: $id}) {
    order { id displayFinancialStatus }
    userErrors { field message }
  }
}
""",
    cost=10,
    idempotent=False,
)

ORDER_CANCEL = Document(
    "CancelOrder",
    """
mutation CancelOrder($orderId: ID!, $restock: Boolean!, $staffNote: String) {
  orderCancel(
    orderId: $orderId
    refund: true
    restock: $restock
    reason: OTHER
    notifyCustomer: false
    staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
""",
    cost=10,
    idempotent=False,
)

REFUND_CREATE = Document(
    "RefundLines",
    """
mutation RefundLines($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id }
    userErrors { field message }
  }
}
""",
    cost=10,
    idempotent=False,
)

FULFILLMENT_ORDERS = Document(
    "FulfillmentOrders",
    """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 10) { trackingInfo(first: 2) { number } }
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        assignedLocation { location { id } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
""",
    cost=558,
)

FULFILLMENT_CREATE = Document(
    "CreateFulfillment",
    """
mutation CreateFulfillment($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
""",
    cost=10,
    idempotent=False,
)

PRIMARY_LOCATION = Document(
    "PrimaryLocation",
    """
query PrimaryLocation {
  location { id name }
}
""",
    cost=1,
)

#: Variants read per ``VARIANT_STOCK`` call.
STOCK_BATCH = 50

VARIANT_STOCK = Document(
    "VariantStock",
    """
query VariantStock($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      id
      inventoryItem {
        id
        inventoryLevel(locationId: $locationId) {
          quantities(names: ["available"]) { name quantity }
        }
      }
    }
  }
}
""",
    cost=200,
    cost_per_id=4,
)

SET_QUANTITIES = Document(
    "SetQuantities",
    """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
""",
    cost=10,
)

PRODUCT_VARIANTS = Document(
    "ProductVariants",
    """
query ProductVariants($after: String, $locationId: ID!) {
  productVariants(first: 50, after: $after) {
    nodes {
      id
      sku
      title
      price
      product { id title }
      inventoryItem {
        inventoryLevel(locationId: $locationId) {
          quantities(names: ["available"]) { name quantity }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    cost=252,
)

ALL = (
    GET_ORDER, ORDER_LINES, FIND_ORDERS, CHANGED_ORDERS, ORDER_CREATE, ORDER_CANCEL,
    REFUND_CREATE, FULFILLMENT_ORDERS, FULFILLMENT_CREATE, PRIMARY_LOCATION, VARIANT_STOCK,
    SET_QUANTITIES, PRODUCT_VARIANTS,
)
