-- GET P.path .. <id>: a different synthetic patient each time (bench/patients_data.py names
-- them pat_bench<20-digit index>), spread over all P.patients of them by a step coprime to
-- their number, so that the reads touch the whole table and not one hot row.

function request()
  local index = (next_n() * P.step) % P.patients
  return wrk.format(nil, P.path .. string.format("pat_bench%020d", index))
end
