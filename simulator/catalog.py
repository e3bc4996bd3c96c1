"""Static world facts: countries, money, devices, e-mail domains, categories, daily rhythm."""

from __future__ import annotations

import numpy as np

from core_api.events import payload_rules

# Read from the contract itself (pipelines may depend on core_api.events only).
TOPICS: tuple[str, ...] = payload_rules()["topic"].choices or ()
CATEGORIES: tuple[str, ...] = payload_rules()["category"].choices or ()

# code, currency, units per USD, UTC offset (h), share of users, cities (lat, lon), IPv4 /8 blocks
_COUNTRIES = [
    (
        "US",
        "USD",
        1.0,
        -5,
        0.22,
        [(40.71, -74.01), (34.05, -118.24), (41.88, -87.63), (29.76, -95.37)],
        [23, 24, 50, 67, 73, 98],
    ),
    ("GB", "GBP", 0.79, 0, 0.07, [(51.51, -0.13), (53.48, -2.24)], [25, 31, 81]),
    ("DE", "EUR", 0.92, 1, 0.07, [(52.52, 13.40), (48.14, 11.58)], [46, 62, 79]),
    ("FR", "EUR", 0.92, 1, 0.06, [(48.86, 2.35), (45.76, 4.84)], [2, 82, 90]),
    ("ES", "EUR", 0.92, 1, 0.04, [(40.42, -3.70), (41.39, 2.17)], [83, 88]),
    ("IT", "EUR", 0.92, 1, 0.04, [(41.90, 12.50), (45.46, 9.19)], [79, 93]),
    ("NL", "EUR", 0.92, 1, 0.02, [(52.37, 4.90)], [77, 145]),
    ("PL", "PLN", 4.0, 1, 0.03, [(52.23, 21.01)], [31, 89]),
    ("BR", "BRL", 5.0, -3, 0.08, [(-23.55, -46.63), (-22.91, -43.17)], [177, 179, 189]),
    ("MX", "MXN", 17.0, -6, 0.05, [(19.43, -99.13)], [187, 189]),
    ("CA", "CAD", 1.36, -5, 0.03, [(43.65, -79.38)], [24, 99]),
    ("IN", "INR", 83.0, 5, 0.08, [(19.08, 72.88), (28.61, 77.21)], [49, 106, 117]),
    ("NG", "NGN", 1500.0, 1, 0.04, [(6.52, 3.38)], [102, 105]),
    ("KE", "KES", 130.0, 3, 0.02, [(-1.29, 36.82)], [41, 105]),
    ("JP", "JPY", 150.0, 9, 0.04, [(35.68, 139.69)], [126, 133]),
    ("KR", "KRW", 1350.0, 9, 0.02, [(37.57, 126.98)], [121, 211]),
    ("PH", "PHP", 56.0, 8, 0.03, [(14.60, 120.98)], [112, 124]),
    ("ID", "IDR", 16000.0, 7, 0.03, [(-6.21, 106.85)], [36, 114]),
    ("AU", "AUD", 1.52, 10, 0.02, [(-33.87, 151.21)], [1, 101]),
    ("TR", "TRY", 32.0, 3, 0.02, [(41.01, 28.98)], [78, 88]),
]
COUNTRY = np.array([c[0] for c in _COUNTRIES])
CURRENCY = np.array([c[1] for c in _COUNTRIES])
FX = np.array([c[2] for c in _COUNTRIES])
UTC_OFFSET = np.array([c[3] for c in _COUNTRIES], dtype=np.int64)
COUNTRY_SHARE = np.array([c[4] for c in _COUNTRIES]) / sum(c[4] for c in _COUNTRIES)
MAX_CITIES = max(len(c[5]) for c in _COUNTRIES)
CITY_COUNT = np.array([len(c[5]) for c in _COUNTRIES])
CITY_LATLON = np.zeros((len(_COUNTRIES), MAX_CITIES, 2))
for _i, _c in enumerate(_COUNTRIES):
    CITY_LATLON[_i, : len(_c[5])] = _c[5]
IP_BLOCKS = [np.array(c[6], dtype=np.uint32) for c in _COUNTRIES]
# Hosting and VPN ranges: an honest person rarely logs in from them, scripted fraud often does.
DATACENTER_BLOCKS = np.array([45, 104, 185, 193, 198], dtype=np.uint32)
N_COUNTRIES = len(_COUNTRIES)

PLATFORMS = np.array(["web", "ios", "android", "api"])
WEB, IOS, ANDROID, API = 0, 1, 2, 3
USER_AGENTS = [
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/125.0 Safari/537.36 Edg/125.0",
    ],
    [
        "Vouch/4.2.1 (iPhone; iOS 17.5; Scale/3.00)",
        "Vouch/4.1.0 (iPhone; iOS 16.7; Scale/2.00)",
        "Vouch/4.2.1 (iPad; iOS 17.4; Scale/2.00)",
    ],
    [
        "Vouch/4.2.1 (Android 14; Pixel 8)",
        "Vouch/4.1.0 (Android 13; SM-S911B)",
        "Vouch/4.2.0 (Android 12; Redmi Note 11)",
    ],
    ["python-requests/2.32.3", "curl/8.7.1", "okhttp/4.12.0"],
]
UA_PER_PLATFORM = 4
UA_TABLE = np.array([uas[i % len(uas)] for uas in USER_AGENTS for i in range(UA_PER_PLATFORM)])

EMAIL_DOMAINS = np.array(
    [
        "gmail.com",
        "outlook.com",
        "yahoo.com",
        "icloud.com",
        "hotmail.com",
        "proton.me",
        "gmx.de",
        "orange.fr",
        "uol.com.br",
        "acme.io",
        "globex.com",
        "mailinator.com",
        "yopmail.com",
        "guerrillamail.com",
        "10minutemail.com",
        "tempmail.dev",
    ]
)
HONEST_EMAIL_SHARE = np.array([45, 12, 10, 10, 6, 3, 3, 3, 3, 2, 2, 0.3, 0.2, 0.1, 0.1, 0.1])
DISPOSABLE_EMAILS = np.arange(11, 16)

# Median listing price per category in USD; prices are log-normal around it.
CATEGORY_MEDIAN_USD = np.array([180.0, 35.0, 45.0, 20.0, 40.0, 12.0, 4500.0, 60.0, 18.0, 50.0])
CATEGORY_SHARE = np.array([18, 20, 14, 8, 9, 8, 1, 8, 8, 6], dtype=np.float64)

# Local-time activity by hour: quiet nights, lunch and evening peaks.
DIURNAL = np.array(
    [
        1.0,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1.2,
        2.2,
        3.0,
        3.2,
        3.3,
        3.6,
        4.2,
        4.0,
        3.6,
        3.5,
        3.6,
        4.0,
        4.6,
        5.2,
        5.5,
        5.0,
        3.6,
        2.0,
    ]
)
DIURNAL = DIURNAL / DIURNAL.sum()
IP_BLOCKS_FIRST = np.array([b[0] for b in IP_BLOCKS], dtype=np.uint32)
