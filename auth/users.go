package auth

import (
	"context"

	"tenken/checklist"
)

// UserCreator stores a new user with their password hash.
type UserCreator interface {
	CreateUser(ctx context.Context, u checklist.User, passwordHash string, by checklist.Actor) (checklist.User, error)
}

// CreateUser validates u with its first password, hashes the password and
// stores the user. The admin API, the console, `tenken user add` and the
// tests all create users through it; by is who the audit trail names.
func CreateUser(ctx context.Context, users UserCreator, u checklist.User, password string, by checklist.Actor) (checklist.User, error) {
	u.Normalize()
	if err := checklist.ValidateNewUser(u, password); err != nil {
		return checklist.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return checklist.User{}, err
	}
	return users.CreateUser(ctx, u, hash, by)
}

// PasswordSetter replaces a user's password hash, which ends the user's
// sessions.
type PasswordSetter interface {
	UserFinder
	SetPassword(ctx context.Context, id, passwordHash string, by checklist.Actor) error
}

// SetPassword checks and sets user id's password, which ends the user's
// sessions; the API and the console reset passwords through it.
func SetPassword(ctx context.Context, users PasswordSetter, id, password string, by checklist.Actor) error {
	u, err := users.FindUser(ctx, id)
	if err != nil {
		return err
	}
	var p checklist.Problems
	checklist.ValidatePassword(&p, "password", password, u.Username)
	if err := p.Err("the password is not valid"); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return users.SetPassword(ctx, u.ID, hash, by)
}
