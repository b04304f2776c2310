"""Running a home: keeping the index in step, precomputing lists, and the doctor."""
