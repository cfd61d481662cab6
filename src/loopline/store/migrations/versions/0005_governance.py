"""governance: users, api_tokens, release_policies, model_evaluations, model_transitions,
model_approvals, model_cards; model_versions.training_datasets_json

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["version_id"],
        ["model_versions.version_id"],
        name=op.f(f"fk_{table}_version_id_model_versions"),
        ondelete="CASCADE",
    )


def _index_version(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_version_id"), ["version_id"], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "training_datasets_json", sa.Text(), nullable=False, server_default=sa.text("'[]'")
            )
        )
    op.create_table(
        "users",
        sa.Column("user_id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("last_used_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_tokens_secret_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)
    op.create_table(
        "release_policies",
        sa.Column("model_id", _ID, nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.model_id"],
            name=op.f("fk_release_policies_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_release_policies")),
    )
    op.create_table(
        "model_evaluations",
        sa.Column("evaluation_id", _ID, autoincrement=True, nullable=False),
        sa.Column("version_id", _ID, nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        _version_fk("model_evaluations"),
        sa.PrimaryKeyConstraint("evaluation_id", name=op.f("pk_model_evaluations")),
    )
    _index_version("model_evaluations")
    op.create_table(
        "model_transitions",
        sa.Column("transition_id", _ID, autoincrement=True, nullable=False),
        sa.Column("version_id", _ID, nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        _version_fk("model_transitions"),
        sa.PrimaryKeyConstraint("transition_id", name=op.f("pk_model_transitions")),
    )
    _index_version("model_transitions")
    op.create_table(
        "model_approvals",
        sa.Column("approval_id", _ID, autoincrement=True, nullable=False),
        sa.Column("version_id", _ID, nullable=False),
        sa.Column("approver", sa.String(length=256), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("artifact_digest", sa.String(length=71), nullable=False),
        sa.Column("gates_digest", sa.String(length=71), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        _version_fk("model_approvals"),
        sa.PrimaryKeyConstraint("approval_id", name=op.f("pk_model_approvals")),
    )
    _index_version("model_approvals")
    op.create_table(
        "model_cards",
        sa.Column("card_id", _ID, autoincrement=True, nullable=False),
        sa.Column("version_id", _ID, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sections_json", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        _version_fk("model_cards"),
        sa.PrimaryKeyConstraint("card_id", name=op.f("pk_model_cards")),
        sa.UniqueConstraint("version_id", "revision", name="uq_model_cards_revision"),
    )
    _index_version("model_cards")


def downgrade() -> None:
    for table in ("model_cards", "model_approvals", "model_transitions", "model_evaluations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_version_id"))
        op.drop_table(table)
    op.drop_table("release_policies")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("training_datasets_json")
