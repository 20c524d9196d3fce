package storage

// Limits of AuditLog.ListAudit.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AuditLimit turns ListAudit's limit argument into the number of events
// to return: DefaultAuditLimit for limit ≤ 0, at most MaxAuditLimit.
func AuditLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultAuditLimit
	case limit > MaxAuditLimit:
		return MaxAuditLimit
	}
	return limit
}
