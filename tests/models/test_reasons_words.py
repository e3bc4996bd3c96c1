import numpy as np
import polars as pl

from models.reasons import phrase, top_reasons


def test_phrases_read_like_an_analyst_wrote_them() -> None:
    assert phrase("users_per_device_ever", 7) == "7 accounts share this device"
    assert phrase("last_money_in_to_out_secs", 180) == "money moved out 3 min after it came in"
    assert phrase("failed_payments_n_24h", 12) == "12 failed payments in the last 24 hours"
    assert phrase("fan_in_senders_7d", 9) == "9 different senders of money in the last 7 days"
    assert phrase("chargebacks_n_ever", 2) == "2 chargebacks so far"


def test_top_reasons_take_the_largest_positive_contributions() -> None:
    values = pl.DataFrame({"users_per_device_ever": [7.0, 1.0], "account_age_days": [2.0, 400.0]})
    contributions = np.array([[0.9, 0.4, -1.0], [-0.2, -0.1, -1.0]])  # last column: bias
    reasons = top_reasons(contributions, values, features=values.columns, k=2)
    assert reasons == [["7 accounts share this device", "account is 2 days old"], []]


def test_top_reasons_skip_values_on_the_harmless_side() -> None:
    # Over a batch, more accounts per device pushes risk up; a row whose tree credits "1 account
    # shares this device" with a push up has no reason there.
    values = pl.DataFrame({"users_per_device_ever": [1.0, 6.0, 8.0, 1.0, 1.0]})
    contributions = np.array([[0.3, 0], [0.8, 0], [0.9, 0], [-0.2, 0], [-0.1, 0]])
    reasons = top_reasons(contributions, values, features=values.columns, k=2)
    assert reasons[0] == []
    assert reasons[1] == ["6 accounts share this device"]


def test_phrases_say_what_the_linked_accounts_did() -> None:
    assert phrase("nb_money_count", 8) == "8 accounts exchanging money with the user"
    assert (
        phrase("nb_shared_max_failed_payments_n_30d", 18)
        == "one of the accounts sharing a device or IP: 18 failed payments in the last 30 days"
    )
    assert phrase("nb_social_mean_account_age_days", 3) == (
        "connected accounts, on average: account is 3 days old"
    )
