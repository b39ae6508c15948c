-- POST /v1/appointments: request n books slot n of the bench provider's book, P.slot_minutes
-- long, from P.first_day (a UTC midnight in the future) on; the provider works every day
-- P.slots_per_day slots from 00:00 UTC (bench/fixtures.py). Distinct slots never collide, so
-- a 409 (double booking) only comes when the numbers wrap around P.capacity slots, and the
-- harness reports those apart. Patients take turns from P.patients (active ones).

local BODY = '{"patientId": "%s", "providerId": "%s", "location": "%s", "start": "%s", '
  .. '"duration": %d, "type": "follow_up", "reason": "Bench follow-up"}'

function request()
  local slot = next_n() % P.capacity
  local day = math.floor(slot / P.slots_per_day)
  local start = P.first_day + day * 86400 + (slot % P.slots_per_day) * P.slot_minutes * 60
  local patient = P.patients[(slot % #P.patients) + 1]
  return wrk.format(nil, nil, nil, string.format(BODY, patient, P.provider, P.location,
    os.date("!%Y-%m-%dT%H:%M:%SZ", start), P.slot_minutes))
end

function response(status, headers, body)
  count_response(status, body)
end
