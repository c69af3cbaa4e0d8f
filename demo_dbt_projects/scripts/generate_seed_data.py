"""Regenerate the seed CSVs of the three demo projects.

The data is generated once and committed; this script exists so it can be regenerated on
purpose (same seed → byte-identical files). All dates are fixed (first half of 2025) so the
demo never depends on today's date. The three projects share keys: marketing's touchpoints
and finance's invoices point at core's customers and orders, so the cross-project joins
return real rows.

Run from anywhere: ``python demo_dbt_projects/scripts/generate_seed_data.py``.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CENT = Decimal("0.01")
START = date(2025, 1, 1)
END = date(2025, 6, 30)

FIRST_NAMES = [
    "Ava", "Ben", "Chloe", "Daniel", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jonas",
    "Kira", "Liam", "Maya", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Sam", "Tara",
    "Umar", "Vera", "Will", "Xenia", "Yusuf", "Zoe",
]
LAST_NAMES = [
    "Adams", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
    "Jansen", "Keller", "Lopez", "Martin", "Novak", "Olsen", "Peters", "Rossi", "Smith",
    "Tanaka", "Visser", "Weber", "Young",
]
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES"]
COUNTRY_WEIGHTS = [40, 20, 15, 10, 10, 5]
CATEGORIES = {
    "apparel": ["Linen Shirt", "Wool Socks", "Rain Jacket", "Denim Jeans", "Cotton Tee", "Knit Beanie"],
    "home": ["Ceramic Mug", "Oak Cutting Board", "Throw Blanket", "Table Lamp", "Glass Vase", "Cast Iron Pan"],
    "electronics": ["USB-C Charger", "Wireless Earbuds", "Smart Plug", "Desk Speaker", "Phone Stand", "Power Bank"],
    "beauty": ["Face Serum", "Hand Cream", "Lip Balm", "Shampoo Bar", "Body Oil", "Clay Mask"],
}
PRICE_RANGES = {
    "apparel": (15, 120),
    "home": (12, 90),
    "electronics": (19, 180),
    "beauty": (6, 45),
}


def money(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])


def day_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def generate_core(rng: random.Random) -> dict[str, list]:
    customers = []
    for customer_id in range(1, 151):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        customers.append(
            [
                customer_id,
                first,
                last,
                f"{first.lower()}.{last.lower()}{customer_id}@example.com",
                rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0],
                day_between(rng, date(2024, 1, 1), date(2024, 12, 31)).isoformat(),
            ]
        )

    products = []
    product_id = 0
    for category, names in CATEGORIES.items():
        low, high = PRICE_RANGES[category]
        for name in names:
            product_id += 1
            price = money(rng.randint(low, high) - Decimal("0.01"))
            is_active = "false" if product_id in (6, 17) else "true"
            products.append([product_id, f"SKU-{1000 + product_id}", name, category, price, is_active])
    price_of = {row[0]: row[4] for row in products}

    orders, items, payments = [], [], []
    item_id = 0
    payment_id = 0
    # Customers 141-150 signed up but never ordered: dim_customers has customers without orders.
    for order_id in range(1, 401):
        customer_id = rng.randint(1, 140)
        order_date = day_between(rng, START, END)
        status = rng.choices(
            ["completed", "shipped", "placed", "returned", "cancelled"], [70, 10, 5, 8, 7]
        )[0]
        channel = rng.choices(["web", "mobile", "store"], [50, 35, 15])[0]
        subtotal = Decimal("0")
        discount_total = Decimal("0")
        for product in rng.sample(sorted(price_of), rng.randint(1, 3)):
            item_id += 1
            quantity = rng.choices([1, 2, 3], [70, 22, 8])[0]
            unit_price = price_of[product]
            line = unit_price * quantity
            discount = money(line * Decimal("0.10")) if rng.random() < 0.2 else money(0)
            subtotal += line
            discount_total += discount
            items.append([item_id, order_id, product, quantity, unit_price, discount])
        shipping = money(0) if channel == "store" or subtotal >= 100 else money("4.99")
        orders.append([order_id, customer_id, order_date.isoformat(), status, channel, shipping])
        total = money(subtotal - discount_total + shipping)

        paid_at = datetime.combine(order_date, datetime.min.time()) + timedelta(
            hours=rng.randint(8, 21), minutes=rng.randint(0, 59)
        )
        if status == "cancelled":
            if rng.random() < 0.5:
                payment_id += 1
                method = rng.choice(["credit_card", "paypal"])
                payments.append([payment_id, order_id, method, "failed", total, paid_at.isoformat(sep=" ")])
            continue
        if rng.random() < 0.08:
            payment_id += 1
            payments.append([payment_id, order_id, "credit_card", "failed", total, paid_at.isoformat(sep=" ")])
            paid_at += timedelta(minutes=rng.randint(2, 30))
        if total > 40 and rng.random() < 0.15:
            gift = money(rng.choice([10, 20, 25]))
            payment_id += 1
            payments.append([payment_id, order_id, "gift_card", "success", gift, paid_at.isoformat(sep=" ")])
            payment_id += 1
            payments.append(
                [payment_id, order_id, "credit_card", "success", money(total - gift), paid_at.isoformat(sep=" ")]
            )
        else:
            method = rng.choices(["credit_card", "paypal", "bank_transfer"], [60, 30, 10])[0]
            payment_id += 1
            payments.append([payment_id, order_id, method, "success", total, paid_at.isoformat(sep=" ")])
    return {
        "customers": customers,
        "products": products,
        "orders": orders,
        "items": items,
        "payments": payments,
    }


def generate_marketing(rng: random.Random, core: dict[str, list]) -> dict[str, list]:
    channels = [
        ["paid_search", "Paid search", "true"],
        ["paid_social", "Paid social", "true"],
        ["display", "Display", "true"],
        ["affiliate", "Affiliate", "true"],
        ["email", "Email", "false"],
    ]
    themes = ["New Year", "Winter Sale", "Spring Refresh", "Easter", "Mother's Day", "Summer Preview",
              "Home Week", "Gadget Days"]
    campaigns = []
    campaign_id = 0
    for theme_index, theme in enumerate(themes):
        for channel in rng.sample([c[0] for c in channels], 2):
            campaign_id += 1
            start = START + timedelta(days=theme_index * 21 + rng.randint(0, 6))
            end = min(start + timedelta(days=rng.randint(14, 35)), END)
            objective = "retention" if channel == "email" else rng.choice(["acquisition", "awareness"])
            budget = money(rng.randint(10, 60) * 100)
            campaigns.append(
                [campaign_id, f"{theme} - {channel.replace('_', ' ')}", channel, objective,
                 start.isoformat(), end.isoformat(), budget]
            )

    spend = []
    spend_id = 0
    for cid, _name, channel, _objective, start_s, end_s, budget in campaigns:
        start, end = date.fromisoformat(start_s), date.fromisoformat(end_s)
        days = (end - start).days + 1
        daily = budget / days
        # Campaigns are reported every other day to keep the seed small.
        for offset in range(0, days, 2):
            spend_id += 1
            impressions = rng.randint(800, 9000) if channel != "email" else rng.randint(300, 1500)
            clicks = max(1, int(impressions * rng.uniform(0.005, 0.04)))
            amount = money(0) if channel == "email" else money(daily * 2 * Decimal(str(rng.uniform(0.8, 1.1))))
            spend.append([spend_id, cid, (start + timedelta(days=offset)).isoformat(), impressions, clicks, amount])

    touchpoints = []
    touch_id = 0
    active = [(c[0], date.fromisoformat(c[4]), date.fromisoformat(c[5])) for c in campaigns]
    for order in core["orders"]:
        _order_id, customer_id, order_date_s, status, _channel, _shipping = order
        order_date = date.fromisoformat(order_date_s)
        if status == "cancelled" or rng.random() > 0.6:
            continue
        candidates = [cid for cid, start, end in active if start <= order_date - timedelta(days=1) <= end + timedelta(days=10)]
        if not candidates:
            continue
        touch_id += 1
        touched = datetime.combine(order_date - timedelta(days=rng.randint(1, 12)), datetime.min.time())
        touched += timedelta(hours=rng.randint(7, 22), minutes=rng.randint(0, 59))
        touchpoints.append([touch_id, customer_id, rng.choice(candidates), touched.isoformat(sep=" "),
                            rng.choice(["click", "click", "view", "open"])])
    # Touches that never converted.
    for _ in range(120):
        cid, start, end = rng.choice(active)
        touch_id += 1
        touched = datetime.combine(day_between(rng, start, end), datetime.min.time()) + timedelta(
            hours=rng.randint(7, 22), minutes=rng.randint(0, 59))
        touchpoints.append([touch_id, rng.randint(1, 150), cid, touched.isoformat(sep=" "),
                            rng.choice(["click", "view", "open"])])
    touchpoints.sort(key=lambda row: (row[3], row[0]))
    for index, row in enumerate(touchpoints, start=1):
        row[0] = index
    return {"channels": channels, "campaigns": campaigns, "spend": spend, "touchpoints": touchpoints}


def generate_finance(rng: random.Random, core: dict[str, list]) -> dict[str, list]:
    accounts = [
        ["4000", "Product revenue", "revenue", "sales"],
        ["4100", "Shipping revenue", "revenue", "sales"],
        ["5000", "Cost of goods sold", "cogs", "operations"],
        ["5100", "Fulfilment", "cogs", "operations"],
        ["6000", "Salaries", "opex", "people"],
        ["6100", "Rent", "opex", "facilities"],
        ["6200", "Software", "opex", "engineering"],
        ["6300", "Marketing services", "opex", "marketing"],
        ["6400", "Travel", "opex", "people"],
        ["6500", "Payment fees", "opex", "finance"],
    ]
    months = [date(2025, month, 1) for month in range(1, 7)]
    budgets = []
    budget_base = {
        "4000": 11000, "4100": 300, "5000": 3900, "5100": 700, "6000": 2600,
        "6100": 900, "6200": 450, "6300": 800, "6400": 200, "6500": 250,
    }
    budget_id = 0
    for month in months:
        for account in accounts:
            budget_id += 1
            base = budget_base[account[0]]
            budgets.append([budget_id, month.isoformat(), account[0], money(base * rng.uniform(0.9, 1.1))])

    vendors = {
        "5000": ["Northwind Supply", "Acme Wholesale"],
        "5100": ["ParcelCo", "FastShip"],
        "6000": ["Payroll"],
        "6100": ["City Properties"],
        "6200": ["CloudHost", "DataTools Inc", "Mailer Pro"],
        "6300": ["AdAgency One", "Creative Studio"],
        "6400": ["Rail & Air"],
        "6500": ["PayGate"],
    }
    expenses = []
    expense_id = 0
    for month in months:
        for code, names in vendors.items():
            base = budget_base[code]
            parts = 1 if code in ("6000", "6100") else rng.randint(2, 6)
            for _ in range(parts):
                expense_id += 1
                day = month + timedelta(days=rng.randint(0, 27))
                expenses.append([expense_id, day.isoformat(), code, rng.choice(names),
                                 money(base / parts * rng.uniform(0.8, 1.2))])

    invoices = []
    invoice_id = 0
    for order in core["orders"]:
        order_id, _customer, order_date_s, status, _channel, _shipping = order
        if status in ("cancelled", "placed"):
            continue
        invoice_id += 1
        issued = date.fromisoformat(order_date_s) + timedelta(days=rng.randint(0, 2))
        invoice_status = "void" if status == "returned" else "issued"
        invoices.append([invoice_id, order_id, f"INV-2025-{invoice_id:05d}", issued.isoformat(),
                         (issued + timedelta(days=30)).isoformat(), invoice_status])
    return {"accounts": accounts, "budgets": budgets, "expenses": expenses, "invoices": invoices}


def main() -> None:
    rng = random.Random(20250101)
    core = generate_core(rng)
    marketing = generate_marketing(rng, core)
    finance = generate_finance(rng, core)

    seeds = ROOT / "core" / "seeds"
    write_csv(seeds / "raw_customers.csv",
              ["id", "first_name", "last_name", "email", "country_code", "signup_date"], core["customers"])
    write_csv(seeds / "raw_products.csv",
              ["id", "sku", "name", "category", "unit_price", "is_active"], core["products"])
    write_csv(seeds / "raw_orders.csv",
              ["id", "customer_id", "order_date", "status", "channel", "shipping_amount"], core["orders"])
    write_csv(seeds / "raw_order_items.csv",
              ["id", "order_id", "product_id", "quantity", "unit_price", "discount_amount"], core["items"])
    write_csv(seeds / "raw_payments.csv",
              ["id", "order_id", "payment_method", "status", "amount", "paid_at"], core["payments"])

    seeds = ROOT / "marketing" / "seeds"
    write_csv(seeds / "raw_channels.csv", ["channel_code", "channel_name", "is_paid"], marketing["channels"])
    write_csv(seeds / "raw_campaigns.csv",
              ["id", "name", "channel_code", "objective", "start_date", "end_date", "budget"],
              marketing["campaigns"])
    write_csv(seeds / "raw_ad_spend.csv",
              ["id", "campaign_id", "spend_date", "impressions", "clicks", "spend"], marketing["spend"])
    write_csv(seeds / "raw_touchpoints.csv",
              ["id", "customer_id", "campaign_id", "touched_at", "touch_type"], marketing["touchpoints"])

    seeds = ROOT / "finance" / "seeds"
    write_csv(seeds / "raw_gl_accounts.csv",
              ["account_code", "account_name", "account_type", "department"], finance["accounts"])
    write_csv(seeds / "raw_budgets.csv", ["id", "budget_month", "account_code", "amount"], finance["budgets"])
    write_csv(seeds / "raw_expenses.csv",
              ["id", "expense_date", "account_code", "vendor", "amount"], finance["expenses"])
    write_csv(seeds / "raw_invoices.csv",
              ["id", "order_id", "invoice_number", "issued_date", "due_date", "status"], finance["invoices"])


if __name__ == "__main__":
    main()
