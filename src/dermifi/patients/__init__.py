# Any import of the patients package (its models included) registers the listeners that keep
# the search table and the counts in step with every ORM write of a patient.
from dermifi.patients import projection as _projection  # noqa: F401
