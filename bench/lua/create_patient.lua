-- POST /v1/patients: the vendor document's example body, as a new person each time. The API
-- refuses a second active patient with the same names and date of birth, and a second one
-- with the same email, so both carry the request number (the first name in letters).

local function letters(n)
  local text = ""
  repeat
    text = string.char(97 + n % 26) .. text
    n = math.floor(n / 26)
  until n == 0
  return text
end

local BODY = '{"firstName": "Wrk%s", "lastName": "Bench", '
  .. '"email": "wrk.%d@email.com", "phone": "+1 (415) 555-01%02d", '
  .. '"dateOfBirth": "1990-03-21", "gender": "female", '
  .. '"address": {"street": "456 Oak Ave", "city": "Los Angeles", "state": "CA", '
  .. '"zipCode": "90001"}, '
  .. '"emergencyContact": {"name": "John Bench", "relationship": "spouse", '
  .. '"phone": "+1 (415) 555-0133"}, '
  .. '"insurance": {"provider": "Aetna", "memberId": "AET%09d", "groupNumber": "GRP002", '
  .. '"copay": 25}, '
  .. '"allergies": ["penicillin"], "medications": ["lisinopril 10mg daily"], '
  .. '"conditions": ["hypertension"], "consentToTreat": true, "hipaaConsent": true}'

function request()
  local n = next_n()
  return wrk.format(nil, nil, nil, string.format(BODY, letters(n), n, n % 100, n))
end

function response(status, headers, body)
  count_response(status, body)
end
