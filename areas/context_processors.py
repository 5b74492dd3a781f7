from areas import access


def roles(request):
    """The user's roles for the page header: the same list the access checks already loaded."""
    return {"my_roles": access.roles_of(request.user)[:2] if hasattr(request, "user") else []}
