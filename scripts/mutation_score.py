"""Print the score of the last `mutmut run` from mutants/mutmut-cicd-stats.json."""

import json
import sys

stats = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "mutants/mutmut-cicd-stats.json"))
detected = stats["killed"] + stats["timeout"]  # a mutant that hangs the tests is caught too
print(f"mutation score: {detected} of {stats['total']} mutants caught "
      f"({stats['killed']} killed, {stats['timeout']} timed out; {stats['survived']} survived, "
      f"{stats['no_tests']} reached by no selected test)")
