package keys

import "fmt"

// connectorAD binds a sealed connector client secret to its tenant and
// connector ID: a ciphertext copied to another row fails to open.
func connectorAD(tenant, id string) []byte { return additionalData(tenant, "connector/"+id) }

// SealConnectorSecret returns the stored form of an upstream client secret
// of connector id in tenant: sealed under the KEK (AES-256-GCM) like the
// signing keys, or plain with its format byte when no KEK is configured.
func (m *Manager) SealConnectorSecret(tenant, id string, secret []byte) ([]byte, error) {
	if len(secret) == 0 {
		return nil, nil
	}
	return m.sealSecret(secret, connectorAD(tenant, id))
}

// OpenConnectorSecret is the inverse of SealConnectorSecret. Errors never
// contain the secret.
func (m *Manager) OpenConnectorSecret(tenant, id string, stored []byte) ([]byte, error) {
	if len(stored) == 0 {
		return nil, nil
	}
	v, err := m.openSecret(stored, connectorAD(tenant, id), false)
	if err != nil {
		return nil, fmt.Errorf("keys: connector %q secret: %w", id, kekError(err))
	}
	return v, nil
}

// RewrapConnectorSecret re-seals a stored connector secret under the
// current KEK (opening it with the current or a previous KEK, or reading it
// unencrypted) and reports whether it changed; one sealed under the current
// KEK already is returned as it is. For herald keys rewrap.
func (m *Manager) RewrapConnectorSecret(tenant, id string, stored []byte) ([]byte, bool, error) {
	ad := connectorAD(tenant, id)
	if len(stored) == 0 || m.sealer.sealedUnderCurrent(stored, ad) {
		return stored, false, nil
	}
	v, err := m.openSecret(stored, ad, true)
	if err != nil {
		return nil, false, fmt.Errorf("keys: connector %q secret: %w", id, kekError(err))
	}
	sealed, err := m.sealSecret(v, ad)
	clear(v)
	if err != nil {
		return nil, false, err
	}
	return sealed, true, nil
}
