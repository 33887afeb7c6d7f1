"""The theorems as an oracle (issue: certificates that hold up): a derandomized campaign of 200 fuzz
instances, each meeting the hypotheses of a result of the paper (decided True). A certificate that says
"fails" where the proven result says "holds" (or the reverse), or a certify call that raises, is a certifier
bug; the campaign must find none.
The inconclusive share is printed, not asserted (it measures the certifier's reach at 3000 steps).
"""
from convcheck.properties import fuzz

CAMPAIGN_SEED = 20240
CAMPAIGN_SIZE = 200


def test_no_certificate_contradicts_a_proven_result():
    campaign = fuzz.run_campaign(CAMPAIGN_SIZE, seed=CAMPAIGN_SEED)
    assert len(campaign.outcomes) == CAMPAIGN_SIZE
    assert all(o.instance.applicability.applies is True for o in campaign.outcomes)
    print(fuzz.campaign_table(campaign))
    assert len(campaign.bugs) == 0, "\n\n".join(fuzz.finding_text(o) for o in campaign.bugs)
