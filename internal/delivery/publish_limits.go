package delivery

import (
	"fmt"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
)

// PayloadTooLargeError refuses an event too large for the profile of a webhook
// it would go to: its data over the profile's max_payload_bytes, or (Body) the
// body rendered for that profile over its max_body_bytes.
type PayloadTooLargeError struct {
	Profile     string
	Limit, Size int64
	// Body: Size is of the body as sent, and Limit the profile's max_body_bytes.
	Body bool
}

func (e *PayloadTooLargeError) Error() string {
	if e.Body {
		return fmt.Sprintf("the request body a webhook of profile %q would get is %d bytes, more than the %d its max_body_bytes allows",
			e.Profile, e.Size, e.Limit)
	}
	return fmt.Sprintf("data is %d bytes, more than the %d that profile %q allows (its max_payload_bytes)", e.Size, e.Limit, e.Profile)
}

// checkEvent refuses ev, bound for wh, when wh's profile cannot carry it:
// its data over the profile's max_payload_bytes, the body rendered for it
// over its max_body_bytes, or a top-level data member the envelope fills
// itself (it would be sent twice and one of them silently lost). All but the
// first are worked out once per profile and event (checked lists the
// profiles done for ev, and is returned grown): the body is the same size
// for every webhook of a profile, as ids have one length, and it is rendered
// with the largest attempt number the profile makes, so that no retry sends
// more. Profiles without max_body_bytes render nothing here.
func checkEvent(prof *profile.Profile, ev *hookline.Event, wh *hookline.Webhook, now time.Time, checked []string) ([]string, error) {
	pol := prof.Policy
	if pol.MaxPayloadBytes > 0 && int64(len(ev.Data)) > pol.MaxPayloadBytes {
		return checked, &PayloadTooLargeError{Profile: prof.Name, Limit: pol.MaxPayloadBytes, Size: int64(len(ev.Data))}
	}
	if (pol.MaxBodyBytes <= 0 && !prof.Reserves()) || slices.Contains(checked, prof.Name) {
		return checked, nil // nothing to work out, or done
	}
	if pol.MaxBodyBytes > 0 {
		body, err := prof.Body(profile.Message{
			Event: ev, Webhook: wh, DeliveryID: hookline.NewID(hookline.PrefixDelivery),
			Attempt: max(1, len(pol.RetrySchedule)), SentAt: now,
		})
		// A body that cannot be rendered is not a matter of size: the
		// attempts fail and log it, as without a limit.
		if err == nil && int64(len(body)) > pol.MaxBodyBytes {
			return checked, &PayloadTooLargeError{Profile: prof.Name, Limit: pol.MaxBodyBytes, Size: int64(len(body)), Body: true}
		}
	}
	if name, ok := prof.ReservedIn(ev.Data); ok {
		return checked, hookline.Invalid("data."+name,
			"is a name the %q profile fills itself (its envelope or reserved list), so webhook %s would not get it; rename it", prof.Name, wh.ID)
	}
	return append(checked, prof.Name), nil
}
