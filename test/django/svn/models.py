from django.db import models


class Repository(models.Model):
    """A Subversion repository; exists so that the permission `svn.commit_repo` exists."""
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        permissions = [
            ('commit_repo', 'Can commit to the repository'),
        ]

    def __str__(self):
        return self.name
