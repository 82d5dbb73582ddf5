"""What customers are told about an incident, apart from what staff write for each other

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TEXTS = ('public_summary', 'public_harm', 'public_cause', 'public_fix', 'public_change')


def upgrade():
    # Existing incidents start with nothing told: their drafts show placeholders to fill
    # rather than staff notes copied into a letter. The server default stays, so adding a
    # column never rebuilds the incidents table on SQLite.
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        for name in TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('public_cause_due', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('public_cause_due')
        for name in reversed(TEXTS):
            batch_op.drop_column(name)
