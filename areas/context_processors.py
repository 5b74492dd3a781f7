from areas import access


def roles(request):
    """The user's roles for the page header (the same list the access checks already loaded) and whether the header
    links the audit log."""
    if not hasattr(request, "user"):
        return {"my_roles": [], "may_audit": False}
    return {"my_roles": access.roles_of(request.user)[:2], "may_audit": access.may_audit(request.user)}
