"""Decision floors for apology letters; every postmortem text kept, the published one apart

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('apology_letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_role', sa.Enum('viewer', 'agent', 'lead', 'manager', 'admin', name='role', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('senior_signer_required', sa.Boolean(), nullable=False, server_default=sa.false()))
    # The bar each waiting letter had before this revision: its audience's role, and a senior
    # signer for public notices of Red incidents.
    op.execute("UPDATE apology_letters SET required_role = CASE audience WHEN 'public' "
               "THEN 'manager' ELSE 'lead' END")
    op.execute("UPDATE apology_letters SET senior_signer_required = (audience = 'public' AND "
               "incident_id IN (SELECT incidents.id FROM incidents JOIN grades ON "
               "grades.id = incidents.grade_id WHERE lower(grades.name) = 'red'))")
    with op.batch_alter_table('apology_letters', schema=None) as batch_op:
        batch_op.alter_column('senior_signer_required', server_default=None)

    op.create_table('postmortem_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('postmortem_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_postmortem_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['postmortem_id'], ['postmortems.id'], name=op.f('fk_postmortem_versions_postmortem_id_postmortems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postmortem_versions')),
    sa.UniqueConstraint('postmortem_id', 'number', name=op.f('uq_postmortem_versions_postmortem_id'))
    )
    with op.batch_alter_table('postmortem_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postmortem_versions_postmortem_id'), ['postmortem_id'], unique=False)

    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('published_number', sa.Integer(), nullable=True))
    # Each existing postmortem's text becomes its version 1; a published one was published
    # as that text.
    op.execute("INSERT INTO postmortem_versions (postmortem_id, number, body, created_by_id, "
               "created_at) SELECT id, 1, body, updated_by_id, updated_at FROM postmortems")
    op.execute("UPDATE postmortems SET published_body = body, published_number = 1 "
               "WHERE status = 'published'")


def downgrade():
    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.drop_column('published_number')
        batch_op.drop_column('published_body')
    with op.batch_alter_table('postmortem_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postmortem_versions_postmortem_id'))
    op.drop_table('postmortem_versions')
    with op.batch_alter_table('apology_letters', schema=None) as batch_op:
        batch_op.drop_column('senior_signer_required')
        batch_op.drop_column('required_role')
